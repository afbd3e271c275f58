import type { Logger } from '../log.js';
import { F } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CompiledPolicy, MatchedRequirement, ObjectRef } from '../model/index.js';
import type { ObjectCache } from '../watcher/cache.js';

export interface EvaluationResult {
  readonly evaluated: string[];
  readonly matches: Map<string, { ref: ObjectRef; matched: MatchedRequirement[] }>;
}

/**
 * Runs one policy over some managed objects, reading each from the cache as it is now. Keys
 * that are gone, or are not of the policy's tenant and kind, are skipped. A matcher that
 * throws on a strange document counts as "does not match" for that object alone.
 */
export function evaluate(
  policy: CompiledPolicy,
  keys: Iterable<string>,
  cache: ObjectCache,
  log: Logger,
  metrics: Metrics,
): EvaluationResult {
  const started = performance.now();
  const evaluated: string[] = [];
  const matches = new Map<string, { ref: ObjectRef; matched: MatchedRequirement[] }>();
  for (const key of keys) {
    const cached = cache.get(key);
    if (!cached) continue;
    if (cached.ref.kind !== policy.resource || cached.ref.tenant !== policy.ref.tenant) continue;
    evaluated.push(key);
    let matched: MatchedRequirement[] | undefined;
    try {
      matched = policy.matcher.match(cached.object);
    } catch (err) {
      log.warn(
        { [F.policy]: policy.id, [F.object]: key, [F.err]: String(err) },
        'evaluation failed',
      );
    }
    if (matched) matches.set(key, { ref: cached.ref, matched });
  }
  metrics.evaluations.inc(evaluated.length);
  metrics.evaluationSeconds.observe((performance.now() - started) / 1000);
  return { evaluated, matches };
}
