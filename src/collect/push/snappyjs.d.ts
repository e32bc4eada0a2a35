// snappyjs ships no types: the two functions of its CommonJS export (snappy block format).
declare module 'snappyjs' {
  const snappy: {
    uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
    compress<T extends Uint8Array>(uncompressed: T): T;
  };
  export default snappy;
}
