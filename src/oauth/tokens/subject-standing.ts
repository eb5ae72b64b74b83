/** What is known of a token's user when the token is used. */
export interface SubjectStanding {
  readonly blocked: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
}

/**
 * Why a user's token may no longer act for its user: the user is gone, blocked, or was created after the token
 * was issued (a deleted user's id was given to a new user, who must not inherit the old user's tokens).
 */
export type SubjectProblem = 'no_user' | 'blocked' | 'newer_user';

/** The problem with a token issued at `issuedAt` (epoch seconds) acting for its user, if any. */
export function subjectProblem(
  standing: SubjectStanding | undefined,
  issuedAt: number,
): SubjectProblem | undefined {
  if (!standing) return 'no_user';
  if (standing.blocked) return 'blocked';
  // Whole seconds, as iat: a token issued in the second the user was created is the user's own.
  if (Math.floor(Date.parse(standing.createdAt) / 1000) > issuedAt) return 'newer_user';
  return undefined;
}
