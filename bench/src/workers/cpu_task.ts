/**
 * The piscina task of scenario (h): `spin` iterations of integer arithmetic (1,500 took ~20 µs
 * on a 2-vCPU EPYC, Node 20; 0 = an empty task,
 * which measures the per-event overhead alone). The same file serves threadbus and raw piscina.
 */
export default function cpuTask(event: { data?: { spin?: number } }): number {
  const spin = event.data?.spin ?? 0;
  let x = 0;
  for (let i = 0; i < spin; i++) x = (x * 31 + i) | 0;
  return x;
}
