/**
 * A timeout that is armed only if the work it guards is still running once the current turn of the event
 * loop is over. Clearing a Node timer does not move the process's native timer, so a timeout set and cleared
 * within one tick still wakes the process at the time it was set for; a wakeup from idle costs about 0.1 ms of
 * CPU on a VM, more than most collectors' reads. Collectors and the file sink finish within the turn that
 * started them (their reads and writes are synchronous), so at 1 Hz they now cost no wakeup beyond the tick's own.
 */
export class LateTimer {
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(ms: number, onTimeout: () => void) {
    const startedAt = performance.now();
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.timer = setTimeout(onTimeout, Math.max(0, ms - (performance.now() - startedAt)));
    });
  }

  cancel(): void {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
  }
}
