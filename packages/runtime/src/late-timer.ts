/** Timers created in the current turn of the event loop, armed together by one immediate at its end. */
let waiting: LateTimer[] = [];

function armWaiting(): void {
  const timers = waiting;
  waiting = [];
  for (const timer of timers) timer.arm();
}

/**
 * A timeout that is armed only if the work it guards is still running once the current turn of the event
 * loop is over. Clearing a Node timer does not move the process's native timer, so a timeout set and cleared
 * within one tick still wakes the process at the time it was set for; a wakeup from idle costs about 0.1 ms of
 * CPU on a VM, more than most collectors' reads. Collectors and the file sink finish within the turn that
 * started them (their reads and writes are synchronous), so at 1 Hz they now cost no wakeup beyond the tick's own.
 * The timers of one turn share one immediate: a tick creates several (collectors, each sink's write and wait).
 */
export class LateTimer {
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private cancelled = false;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {
    if (waiting.push(this) === 1) setImmediate(armWaiting);
  }

  /** Called at the end of the turn that created the timer. */
  arm(): void {
    if (this.cancelled) return;
    this.timer = setTimeout(this.onTimeout, Math.max(0, this.ms - (performance.now() - this.startedAt)));
  }

  cancel(): void {
    this.cancelled = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
