import base from '../../jest.config.js';

/**
 * The reliability suite (`npm run test:reliability`): the root config's ESM and ts-jest settings, its own
 * file pattern, so `npm test` never runs these files and this config runs nothing else.
 */
export default {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/reliability/**/*.reliability-spec.ts'],
  testTimeout: 180000,
  // Fails the run, naming the culprit, when a spec leaves a server, socket, child or timer behind.
  globalTeardown: '<rootDir>/test/support/open-handles.js',
};
