import type { Client } from '../../domain/client.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import { InvalidRequest } from '../../errors/oauth.js';
import { isPublicClient } from './refresh-policy.js';

export interface ProofOfPossession {
  readonly mechanism?: string;
  readonly required?: boolean;
  readonly required_for?: 'public_clients' | 'all_clients';
}

/** The API's `proof_of_possession` setting, when it has one. */
export function proofOfPossessionOf(api: ResourceServer): ProofOfPossession | undefined {
  const pop = api.extra['proof_of_possession'];
  return typeof pop === 'object' && pop !== null && !Array.isArray(pop) ? pop : undefined;
}

/**
 * Which tokens for the API must be DPoP-bound (`{mechanism: "dpop", required: true}`): those of every client
 * (`required_for` "all_clients" or absent), those of public clients only ("public_clients"), or none.
 */
export function apiDpopRequirement(api: ResourceServer): 'all_clients' | 'public_clients' | undefined {
  const pop = proofOfPossessionOf(api);
  if (pop?.required !== true || pop.mechanism !== 'dpop') return undefined;
  return pop.required_for === 'public_clients' ? 'public_clients' : 'all_clients';
}

/**
 * Auth0 issues nothing to a client with `require_proof_of_possession` that presents no proof: such a client
 * gets tokens only with a DPoP proof (`jkt`, the proof's key thumbprint).
 * @throws InvalidRequest when the client requires sender-constrained tokens and no proof came.
 */
export function assertClientProofOfPossession(client: Client, jkt: string | undefined): void {
  if (client.settings['require_proof_of_possession'] === true && jkt === undefined) {
    throw new InvalidRequest(
      'This client requires sender-constrained tokens (require_proof_of_possession): send a DPoP proof.',
    );
  }
}

/**
 * Auth0 issues no token for an API whose `proof_of_possession.required` applies to this client (all clients, or
 * public ones only) unless it is sender-constrained: DPoP-bound here. mTLS-bound tokens are not issued, so an
 * API that requires them gets none (a plain Bearer token where one was demanded would fail open).
 * @throws InvalidRequest when the API requires sender-constrained tokens this request cannot have.
 */
export function assertApiProofOfPossession(
  api: ResourceServer,
  client: Client,
  jkt: string | undefined,
): void {
  const pop = proofOfPossessionOf(api);
  if (pop?.required !== true) return;
  if (pop.required_for === 'public_clients' && !isPublicClient(client)) return;
  if (pop.mechanism === 'dpop') {
    if (jkt !== undefined) return;
    throw new InvalidRequest(`The API "${api.identifier}" requires DPoP-bound tokens: send a DPoP proof.`);
  }
  throw new InvalidRequest(
    `The API "${api.identifier}" requires sender-constrained tokens (${pop.mechanism ?? 'proof_of_possession'}), which this server does not issue.`,
  );
}
