/**
 * Rounds to one decimal the way Python's round(x, 1) does (psutil's percentages): on the exact decimal value of
 * the double, with exact ties going to the even digit. Exact ties at one decimal are only ever x.25 and x.75.
 */
export function roundPercent(value: number): number {
  const quarters = value * 4;
  if (Number.isInteger(quarters) && quarters % 2 !== 0) {
    const tenths = Math.floor(value * 10);
    return (tenths % 2 === 0 ? tenths : tenths + 1) / 10;
  }
  return Number(value.toFixed(1));
}
