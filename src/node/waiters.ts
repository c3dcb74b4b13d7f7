/**
 * Promises waiting for an answer by id, each bounded by a deadline: how a
 * request made on this node waits for its entry to be applied. A request
 * answered after its deadline is simply forgotten. The deadlines share one
 * timer (deadline-queue.ts): nearly every request is answered long before.
 */
import { type Deadline, DeadlineQueue } from '../deadline-queue.js';

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  deadline: Deadline;
}

export class Waiters<T> {
  private readonly pending = new Map<string, Waiter<T>>();
  private readonly deadlines = new DeadlineQueue();

  /** Wait for `id` until the absolute time deadlineMs (Date.now() ms); then reject with onTimeout(). */
  add(id: string, deadlineMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.add(deadlineMs, () => {
        this.pending.delete(id);
        reject(onTimeout());
      });
      this.pending.set(id, { resolve, reject, deadline });
    });
  }

  resolve(id: string, value: T): void {
    const w = this.take(id);
    w?.resolve(value);
  }

  reject(id: string, e: Error): void {
    const w = this.take(id);
    w?.reject(e);
  }

  private take(id: string): Waiter<T> | undefined {
    const w = this.pending.get(id);
    if (w === undefined) return undefined;
    this.pending.delete(id);
    this.deadlines.cancel(w.deadline);
    return w;
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
