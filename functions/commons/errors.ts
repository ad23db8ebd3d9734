/**
 * Every error a person can cause carries a stable `code` (for logs, tests and HTTP mapping)
 * and a message that says what to fix.
 */
export class PushletterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PushletterError';
  }
}

/** Input a person or the internet controls was wrong; never retry, tell them. */
export class InvalidInputError extends PushletterError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'InvalidInputError';
  }
}

/** A setting is missing or malformed; raised at start so nothing runs half-configured. */
export class ConfigError extends PushletterError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
