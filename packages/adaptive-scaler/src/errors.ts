import { BerthError, isBerthError } from '@berth/core-types';
import type { BerthErrorOptions, ErrorCode } from '@berth/core-types';

/**
 * The pool's `resize()` threw. Never thrown to a caller: the loop reports it on
 * `berth:scaler:resize-error` and in the log, and retries at the next period. It keeps the
 * pool's own code when the pool threw a `BerthError` (a target outside `bounds` is
 * `ERR_BERTH_CONFIG`); anything else broke the `ResizablePool` contract (`ERR_BERTH_INTERNAL`).
 */
export class ScalerResizeError extends BerthError {
  /** The size that was asked for. */
  readonly target: number;

  constructor(message: string, options: BerthErrorOptions & { readonly target: number }) {
    const cause = options.cause;
    const code: ErrorCode = isBerthError(cause) ? cause.code : 'ERR_BERTH_INTERNAL';
    super(code, message, options);
    this.target = options.target;
  }
}
