import { useArgon2Cost } from '../../src/users/passwords.js';

// The suite writes thousands of password hashes; at the production cost (46 MiB, two passes) they were most of
// its CPU on two cores. Hashes are still real argon2id, only cheaper; test/unit/users/passwords.test.ts checks the
// production cost itself, and servers started as child processes (start tests, benches) use it unchanged.
export const SUITE_ARGON2_COST = { memoryCost: 256, timeCost: 1 } as const;
useArgon2Cost(SUITE_ARGON2_COST);
