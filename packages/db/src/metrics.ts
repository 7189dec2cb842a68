// Prometheus metrics shared by several roles of one process (the api's HTTP ingest and the counter both
// count verdicts): created once per registry, found again by name.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, Registry } from 'prom-client';

export function counterMetric<T extends string>(registry: Registry, c: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
  return (registry.getSingleMetric(c.name) as Counter<T> | undefined) ?? new Counter({ ...c, registers: [registry] });
}

export function gaugeMetric<T extends string>(registry: Registry, c: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
  return (registry.getSingleMetric(c.name) as Gauge<T> | undefined) ?? new Gauge({ ...c, registers: [registry] });
}

export function histogramMetric<T extends string>(registry: Registry, c: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
  return (registry.getSingleMetric(c.name) as Histogram<T> | undefined) ?? new Histogram({ ...c, registers: [registry] });
}

export const verdictsMetric = (registry: Registry) =>
  counterMetric(registry, { name: 'abuse_desk_verdicts_total', help: 'Verdicts received, by source (http, kafka), result (counted, duplicate, rejected) and verdict', labelNames: ['source', 'result', 'verdict'] });
export const ticketsOpenedMetric = (registry: Registry) => counterMetric(registry, { name: 'abuse_desk_tickets_opened_total', help: 'Tickets opened, by source', labelNames: ['source'] });
/** Complaint reports stored (issue 17): the intake's SMTP listener and POST /v1/complaints of the api. */
export const complaintReportsReceivedMetric = (registry: Registry) =>
  counterMetric(registry, { name: 'abuse_desk_complaint_reports_received_total', help: 'Complaint reports stored, by source (smtp, api)', labelNames: ['source'] });
