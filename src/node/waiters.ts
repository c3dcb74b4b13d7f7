/**
 * Promises waiting for an answer by id, each bounded by a deadline: how a
 * request made on this node waits for its entry to be applied. A request
 * answered after its deadline is simply forgotten.
 */
export class Waiters<T> {
  private readonly pending = new Map<
    string,
    { resolve: (v: T) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  /** Wait for `id` until the absolute time deadlineMs; then reject with onTimeout(). */
  add(id: string, deadlineMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          reject(onTimeout());
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  resolve(id: string, value: T): void {
    const w = this.pending.get(id);
    if (!w) return;
    this.pending.delete(id);
    clearTimeout(w.timer);
    w.resolve(value);
  }

  reject(id: string, e: Error): void {
    const w = this.pending.get(id);
    if (!w) return;
    this.pending.delete(id);
    clearTimeout(w.timer);
    w.reject(e);
  }

  rejectAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.reject(id, e);
  }

  /** Whether `id` is still waiting (not answered, failed or past its deadline). */
  has(id: string): boolean {
    return this.pending.has(id);
  }

  /** How many are waiting. */
  size(): number {
    return this.pending.size;
  }
}
