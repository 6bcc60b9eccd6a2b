// A live line chart (uPlot) of per-second rates. The series arrays are owned by
// the caller and only ever hold the last samples (overview.tsx), so a chart
// costs the same at any traffic: it plots samples, not messages.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface RateChartProps {
  title: string;
  /** x (unix seconds) then one array per series. */
  data: number[][];
  series: Array<{ label: string; stroke: string }>;
  testId: string;
  /** An axis value as text (e.g. 12k, 3.4 MiB). */
  format(value: number): string;
}

export function RateChart({ title, data, series, testId, format }: RateChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    plot.current = new uPlot(
      {
        title,
        width: 520,
        height: 200,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 70, values: (_plot: uPlot, splits: number[]) => splits.map(format) }],
      },
      data as uPlot.AlignedData,
      box.current!,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data as uPlot.AlignedData), [data]);
  return <div class="chart" data-testid={testId} ref={box} />;
}
