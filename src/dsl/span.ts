/** Where a node came from: file name, 0-based offset, 1-based line and column, and the offset just past its end. */
export interface Span {
  file: string;
  offset: number;
  line: number;
  col: number;
  end: number;
}

/** A span covering `a` through `b` (both from the same file). */
export function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, offset: a.offset, line: a.line, col: a.col, end: Math.max(a.end, b.end) };
}
