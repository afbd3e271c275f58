/**
 * Compares the alerts found in etcd with the set the objects' final states call for. Pure,
 * so the verdict logic of the restart scenario is unit-tested.
 */

export interface AlertRecord {
  readonly key: string;
  /** Policy id and object name, as `fleet.pairOf` builds them. */
  readonly pair: string;
  readonly state: string;
}

export interface AuditResult {
  /** Alert keys under the prefix. */
  readonly alerts: number;
  /** Pairs that must have an open alert. */
  readonly expectedOpen: number;
  /** Pairs that have at least one open (or acknowledged) alert. */
  readonly open: number;
  /** Expected pairs without an open alert. */
  readonly lost: number;
  /** Keys beyond the first for one pair: there must only ever be one alert per pair. */
  readonly duplicate: number;
  /** Pairs with an open alert whose object no longer matches: it should have resolved. */
  readonly stale: number;
  /** Examples of each problem, for the report. */
  readonly examples: { lost: string[]; duplicate: string[]; stale: string[] };
}

const ACTIVE = new Set(['open', 'acknowledged']);
const EXAMPLES = 5;

export function auditAlerts(
  records: readonly AlertRecord[],
  expected: ReadonlySet<string>,
): AuditResult {
  const keysByPair = new Map<string, number>();
  const openPairs = new Set<string>();
  for (const r of records) {
    keysByPair.set(r.pair, (keysByPair.get(r.pair) ?? 0) + 1);
    if (ACTIVE.has(r.state)) openPairs.add(r.pair);
  }

  const lost = [...expected].filter((pair) => !openPairs.has(pair));
  const stale = [...openPairs].filter((pair) => !expected.has(pair));
  const duplicated = [...keysByPair].filter(([, n]) => n > 1);
  return {
    alerts: records.length,
    expectedOpen: expected.size,
    open: openPairs.size,
    lost: lost.length,
    duplicate: duplicated.reduce((sum, [, n]) => sum + n - 1, 0),
    stale: stale.length,
    examples: {
      lost: lost.slice(0, EXAMPLES),
      duplicate: duplicated.slice(0, EXAMPLES).map(([pair]) => pair),
      stale: stale.slice(0, EXAMPLES),
    },
  };
}
