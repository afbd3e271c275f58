import { dispatch, spawn, type Ref } from 'nact';

/**
 * A unit of work run inside an actor's turn. Stages talk to each other by sending work to
 * the receiving stage's actor: nact runs one message at a time per actor, in arrival order,
 * so a stage's state is only ever touched by that stage, one step at a time. An async step
 * holds the actor's mailbox until it settles, which is what lets a burst of changes pile up
 * and be handled as one.
 */
export interface Work {
  readonly run: () => void | Promise<void>;
}

/** A stage's actor, with a count of work not yet done (for draining on shutdown). */
export interface Host {
  readonly ref: Ref<Work>;
  readonly name: string;
  /** Queues `run` on the actor; silently dropped once the host is stopped. */
  send(run: () => void | Promise<void>): void;
  readonly pending: number;
  stopped: boolean;
}

/**
 * Spawns an actor that runs the work it is sent. A step that throws crashes the actor; nact
 * then calls `onCrash`, which reports the failure to the supervisor and stops this actor.
 */
export function spawnHost(
  parent: Ref<unknown>,
  name: string,
  onCrash: (error: unknown) => void,
): Host {
  let pending = 0;
  const ref = spawn(
    parent as Ref<never>,
    async (state: undefined, work: Work) => {
      try {
        await work.run();
      } finally {
        pending--;
      }
      return state;
    },
    name,
    {
      onCrash: (_msg: unknown, error: unknown, ctx: { stop: symbol }) => {
        onCrash(error);
        return ctx.stop;
      },
    } as never,
  );
  const host: Host = {
    ref,
    name,
    stopped: false,
    get pending() {
      return pending;
    },
    send(run) {
      if (host.stopped) return;
      pending++;
      dispatch(ref, { run });
    },
  };
  return host;
}
