/** Who is calling: what a key or token maps to. Never holds the key itself. */
export interface Caller {
  /** The key's name: what logs and metrics show. */
  name: string;
  /** Allowed model names or `prefix*` patterns; undefined = all. */
  models?: string[];
  /** Requests per minute; undefined = unlimited. */
  rpm?: number;
  /** Tokens per minute; undefined = unlimited. */
  tpm?: number;
}
