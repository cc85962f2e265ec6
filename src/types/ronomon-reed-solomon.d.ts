// Types for @ronomon/reed-solomon (a native addon; N-API, so one build serves every Node release).
declare module '@ronomon/reed-solomon' {
  export interface Context {
    readonly __context: unique symbol;
  }
  export const MAX_K: number;
  export const MAX_M: number;
  export function create(k: number, m: number): Context;
  export function encode(
    context: Context,
    sources: number,
    targets: number,
    buffer: Buffer,
    bufferOffset: number,
    bufferSize: number,
    parity: Buffer,
    parityOffset: number,
    paritySize: number,
    callback: (error?: Error) => void,
  ): void;
}
