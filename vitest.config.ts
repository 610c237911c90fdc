import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Both emulators start once per run (Firestore alone takes 4–7 s) and are handed to the tests
    // through the standard PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST variables.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/emulator-env.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // The emulators and the machine's two cores are shared: two files at a time keeps timings sane.
    maxWorkers: 2,
  },
});
