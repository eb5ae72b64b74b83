import { useArgon2Cost } from '../../src/users/passwords.js';

// The suite writes thousands of password hashes; at the production cost (46 MiB, two passes) they were most of
// its CPU on two cores. Hashes are still real argon2id, only cheaper; test/unit/users/passwords.test.ts checks the
// production cost itself, and servers started as child processes (start tests, benches) use it unchanged.
useArgon2Cost({ memoryCost: 256, timeCost: 1 });
