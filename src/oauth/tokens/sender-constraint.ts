import type { Client } from '../../domain/client.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import { InvalidRequest } from '../../errors/oauth.js';
import { isPublicClient } from './refresh-policy.js';

interface ProofOfPossession {
  readonly mechanism?: string;
  readonly required?: boolean;
  readonly required_for?: 'public_clients' | 'all_clients';
}

// TODO(#12): issue DPoP-bound tokens instead. Until then a setting that demands a sender-constrained token
// refuses the request: a plain Bearer token where one was demanded would fail open.

/**
 * Auth0 issues nothing to a client with `require_proof_of_possession` that presents no proof.
 * @throws InvalidRequest when the client requires sender-constrained tokens.
 */
export function assertClientNeedsNoProofOfPossession(client: Client): void {
  if (client.settings['require_proof_of_possession'] === true) {
    throw new InvalidRequest(
      'This client requires sender-constrained tokens (require_proof_of_possession), which this server does not issue yet.',
    );
  }
}

/**
 * Auth0 issues no token for an API whose `proof_of_possession.required` applies to this client (all clients, or
 * public ones only) unless it is sender-constrained.
 * @throws InvalidRequest when the API requires sender-constrained tokens from this client.
 */
export function assertApiNeedsNoProofOfPossession(api: ResourceServer, client: Client): void {
  const pop = api.extra['proof_of_possession'] as ProofOfPossession | null | undefined;
  if (pop?.required !== true) return;
  if (pop.required_for === 'public_clients' && !isPublicClient(client)) return;
  throw new InvalidRequest(
    `The API "${api.identifier}" requires sender-constrained tokens (${pop.mechanism ?? 'proof_of_possession'}), which this server does not issue yet.`,
  );
}
