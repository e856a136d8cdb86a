import { stopAll } from './services';

/** Mocha root hooks: stop every shared service once the whole run is over. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAll();
  },
};
