/** The value of one Prometheus sample line (`name{labels} value`), 0 when absent. */
export function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/** Every sample of a metric, by its label text (`{provider="up",reason="5xx"}`). */
export function metricSamples(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(name.length, at)] = Number(line.slice(at + 1));
  }
  return out;
}
