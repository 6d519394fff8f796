import { formatError, isInjectorError } from '../../src/errors.js';

/** The user-visible text (`INJ_ERR_X: message`) of what `fn` throws; fails when it does not throw. */
export function thrownText(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isInjectorError(error)) return formatError(error);
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected the call to throw');
}

/** The user-visible text of the error `promise` rejects with; fails when it resolves. */
export async function rejectionText(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isInjectorError(error)) return formatError(error);
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected the promise to reject');
}
