// The clock tests hand to the code under test (STYLE: time is a parameter): it stands still until the
// test moves it, so deadlines and orderings are exact.

export class TestClock {
  #at: Date;

  constructor(at: Date | string = new Date()) {
    this.#at = new Date(at);
  }

  /** A fresh Date each call, so a caller cannot move the clock by mutating it. Bound: may be passed alone. */
  now = (): Date => new Date(this.#at);

  advance(ms: number): void {
    this.#at = new Date(this.#at.getTime() + ms);
  }

  set(at: Date | string): void {
    this.#at = new Date(at);
  }
}
