/**
 * The PromQL functions Vigil evaluates, with Prometheus 2.42's signatures
 * (prometheus/promql/parser/functions.go): argument types, how many optional arguments follow the
 * fixed ones (variadic: -1 = any), and the result type. Functions the grammar knows but Vigil does
 * not evaluate are listed in UNSUPPORTED_FUNCTIONS with the reason (answered 422).
 */
import type { ValueType } from './ast.js';

export interface FunctionSignature {
  args: ValueType[];
  variadic: number;
  returns: ValueType;
}

const v = 'vector' as const;
const m = 'matrix' as const;
const s = 'scalar' as const;
const str = 'string' as const;

const sig = (args: ValueType[], returns: ValueType = v, variadic = 0): FunctionSignature => ({ args, returns, variadic });

const MATH = ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'sgn', 'deg', 'rad'];
const TRIG = ['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh'];
const OVER_TIME = ['avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'stddev_over_time', 'stdvar_over_time', 'present_over_time', 'absent_over_time'];
const RANGE = ['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'changes', 'resets'];
const DATE = ['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year'];
/** Native-histogram functions: Vigil stores no native histograms, so (as Prometheus does for float samples) they return nothing. */
const NATIVE_HISTOGRAM = ['histogram_count', 'histogram_sum'];

export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  ...Object.fromEntries(MATH.map((f) => [f, sig([v])])),
  ...Object.fromEntries(TRIG.map((f) => [f, sig([v])])),
  ...Object.fromEntries(OVER_TIME.map((f) => [f, sig([m])])),
  ...Object.fromEntries(RANGE.map((f) => [f, sig([m])])),
  ...Object.fromEntries(DATE.map((f) => [f, sig([v], v, 1)])),
  ...Object.fromEntries(NATIVE_HISTOGRAM.map((f) => [f, sig([v])])),
  histogram_fraction: sig([s, s, v]),
  absent: sig([v]),
  clamp: sig([v, s, s]),
  clamp_max: sig([v, s]),
  clamp_min: sig([v, s]),
  histogram_quantile: sig([s, v]),
  holt_winters: sig([m, s, s]),
  /** Prometheus 3's name for holt_winters (the grammar Vigil parses with knows only this one). */
  double_exponential_smoothing: sig([m, s, s]),
  label_replace: sig([v, str, str, str, str]),
  label_join: sig([v, str, str, str], v, -1),
  pi: sig([], s),
  predict_linear: sig([m, s]),
  quantile_over_time: sig([s, m]),
  round: sig([v, s], v, 1),
  scalar: sig([v], s),
  sort: sig([v]),
  sort_desc: sig([v]),
  time: sig([], s),
  timestamp: sig([v]),
  vector: sig([s]),
};

/** Functions whose value depends on the evaluation time even when their arguments do not. */
export const AT_MODIFIER_UNSAFE: ReadonlySet<string> = new Set([...DATE, 'predict_linear', 'time', 'timestamp']);

/** Grammar functions Vigil refuses, and why. */
export const UNSUPPORTED_FUNCTIONS: Readonly<Record<string, string>> = {
  histogram_avg: 'a native-histogram function of Prometheus 3 (Vigil stores classic histograms only)',
  histogram_stddev: 'a native-histogram function of Prometheus 3 (Vigil stores classic histograms only)',
  histogram_stdvar: 'a native-histogram function of Prometheus 3 (Vigil stores classic histograms only)',
  histogram_quantiles: 'an experimental function of Prometheus 3',
  info: 'an experimental function of Prometheus 3',
  mad_over_time: 'an experimental function of Prometheus 3',
  ts_of_first_over_time: 'an experimental function of Prometheus 3',
  ts_of_last_over_time: 'an experimental function of Prometheus 3',
  ts_of_max_over_time: 'an experimental function of Prometheus 3',
  ts_of_min_over_time: 'an experimental function of Prometheus 3',
  first_over_time: 'an experimental function of Prometheus 3',
  sort_by_label: 'an experimental function of Prometheus 3',
  sort_by_label_desc: 'an experimental function of Prometheus 3',
  start_timestamp: 'an experimental function of Prometheus 3',
  start: 'an experimental function of Prometheus 3',
  end: 'an experimental function of Prometheus 3',
  range: 'an experimental function of Prometheus 3',
  step: 'an experimental function of Prometheus 3',
};
