/**
 * Erlang C: the probability that an arrival has to wait in an M/M/c queue with `servers`
 * servers and an offered load of `load` Erlangs (arrival rate × mean service time). Computed
 * from the Erlang B recursion `B(k) = a·B(k−1) / (k + a·B(k−1))`, which stays stable for large
 * `c` where the textbook factorial form overflows; then `C = c·B / (c − a·(1 − B))`.
 * Returns 1 when the load reaches the servers (the queue grows without bound).
 */
export function erlangC(servers: number, load: number): number {
  if (load <= 0) return 0;
  if (load >= servers) return 1;
  let blocking = 1;
  for (let k = 1; k <= servers; k += 1) blocking = (load * blocking) / (k + load * blocking);
  return (servers * blocking) / (servers - load * (1 - blocking));
}
