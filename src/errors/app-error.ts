export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Stable machine code: `error` on OAuth endpoints, `errorCode` on the Management API. */
  abstract readonly code: string;
  /** `message` is safe to show to clients; `detail` is logged only, never sent. */
  constructor(
    message: string,
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
