/**
 * The drift monitor: it reads the drift detectors' verdicts from their output topics (Seldon writes a
 * batched step's answers to `seldon.<namespace>.model.<model>.outputs`), and acts on drift episodes:
 *
 * - a batch window drifts when any detector of the pipeline reports drift on it (the detectors of a
 *   pipeline see the same requests, so their records share the key of the request that closed the
 *   window);
 * - an episode opens after `openAfter` drifting windows in a row and closes after `closeAfter`
 *   quiet ones, as an alert rule's `for:` keeps one stray window from paging anyone;
 * - when an episode opens: one alert (Alertmanager's webhook payload, status `firing`) naming the
 *   features that drifted, and one retraining job; when it closes: the same alert `resolved`;
 * - Prometheus metrics: windows checked and drifting per detector, the last p-value per feature,
 *   episodes opened, retraining jobs by outcome.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { TopicRecord } from '../stack/gateway.ts';

export interface MonitorOptions {
  /** Reads a topic from an offset, or from its end (the embedded stand-in of a Kafka consumer). */
  readTopic: (topic: string, offset: number | 'end') => Promise<{ records: TopicRecord[]; next_offset: number }>;
  /** Where to start reading: the topics' beginning, or their end (verdicts from before the monitor started are skipped). */
  from: 'earliest' | 'latest';
  namespace: string;
  /** detector Model -> the names of the features its p-values are reported for, in order. */
  detectors: Map<string, string[]>;
  openAfter: number;
  closeAfter: number;
  /** POSTs an alert; a failure is logged and counted, never fatal. */
  notify: (alert: Record<string, unknown>) => Promise<void>;
  /** Starts the retraining job for an episode; resolves with its MLflow run id. */
  retrain: (episode: Episode) => Promise<string>;
  log: (line: string) => void;
  /** Deliberate defects for the meta tests. */
  faults?: ReadonlySet<string>;
}

export interface Episode {
  id: string;
  pipeline: string;
  openedAt: string;
  closedAt?: string;
  /** Features reported drifting in the windows of the episode, with how many windows named each. */
  features: Record<string, number>;
  windows: number;
  retraining?: { status: 'running' | 'finished' | 'failed'; runUuid?: string; error?: string };
  /** The alerts sent for the episode: status, when, and whether the webhook took it. */
  alerts: { status: 'firing' | 'resolved'; at: string; delivered: boolean }[];
}

interface Window {
  key: string;
  pipeline: string;
  drift: boolean;
  features: string[];
  seen: Set<string>;
}

/** One detector verdict as read from its topic: the history the dashboard charts. */
export interface WindowVerdict {
  detector: string;
  offset: number;
  /** When the detector answered (the record's timestamp, ms). */
  at: number;
  drift: boolean;
  /** p-value per watched feature, or `all` for a multivariate detector's one p-value. */
  pValues: Record<string, number>;
  /** The p-value below which the detector reports drift (its `threshold` output, after its correction), when it gave one. */
  threshold?: number;
}

/** Verdicts kept per detector for /windows. */
export const VERDICTS_KEPT = 200;

export const MONITOR_FAULTS = ['alert-every-window', 'retrain-every-window'] as const;

export function createMonitor(options: MonitorOptions) {
  const registry = new Registry();
  const windowsTotal = new Counter({ name: 'drift_monitor_windows_total', help: 'Detector verdicts read from the output topics, by detector and verdict', labelNames: ['detector', 'drift'], registers: [registry] });
  const pValue = new Gauge({ name: 'drift_monitor_feature_p_value', help: "The last p-value each detector reported for each feature (MMD: its one p-value under feature 'all')", labelNames: ['detector', 'feature'], registers: [registry] });
  const isDrift = new Gauge({ name: 'drift_monitor_is_drift', help: "The detector's last verdict (1 = drift)", labelNames: ['detector'], registers: [registry] });
  const episodesTotal = new Counter({ name: 'drift_monitor_episodes_total', help: 'Drift episodes opened, by pipeline', labelNames: ['pipeline'], registers: [registry] });
  const episodeOpen = new Gauge({ name: 'drift_monitor_episode_open', help: '1 while a drift episode of the pipeline is open', labelNames: ['pipeline'], registers: [registry] });
  const retrainings = new Counter({ name: 'drift_monitor_retraining_jobs_total', help: 'Retraining jobs started for drift episodes, by outcome', labelNames: ['pipeline', 'outcome'], registers: [registry] });
  const alertsTotal = new Counter({ name: 'drift_monitor_alerts_total', help: 'Alerts sent to the webhook, by status and delivery', labelNames: ['status', 'delivered'], registers: [registry] });

  const offsets = new Map<string, number>();
  const startOffsets = new Map<string, number>();
  const windows = new Map<string, Window>();
  const streaks = new Map<string, { drift: number; quiet: number; open?: Episode }>();
  const episodes: Episode[] = [];
  const history = new Map<string, WindowVerdict[]>([...options.detectors.keys()].map((d) => [d, []]));
  const fault = (f: string): boolean => options.faults?.has(f) ?? false;

  const alert = async (status: 'firing' | 'resolved', episode: Episode): Promise<void> => {
    const labels = { alertname: 'FeatureDrift', pipeline: episode.pipeline, namespace: options.namespace, severity: 'warning' };
    const features = Object.entries(episode.features).sort((a, b) => b[1] - a[1]).map(([f]) => f);
    const payload = {
      version: '4',
      status,
      receiver: 'drift-webhook',
      groupKey: `{}:{alertname="FeatureDrift", pipeline="${episode.pipeline}"}`,
      groupLabels: { alertname: 'FeatureDrift' },
      commonLabels: labels,
      commonAnnotations: {},
      externalURL: '',
      alerts: [{
        status,
        labels,
        annotations: { summary: `drift in ${features.join(', ') || 'the watched features'} of pipeline ${episode.pipeline}`, features: features.join(','), episode: episode.id, windows: String(episode.windows) },
        startsAt: episode.openedAt,
        endsAt: episode.closedAt ?? '0001-01-01T00:00:00Z',
        fingerprint: episode.id,
      }],
    };
    try {
      await options.notify(payload);
      alertsTotal.inc({ status, delivered: 'true' });
      episode.alerts.push({ status, at: new Date().toISOString(), delivered: true });
    } catch (error) {
      alertsTotal.inc({ status, delivered: 'false' });
      episode.alerts.push({ status, at: new Date().toISOString(), delivered: false });
      options.log(`alert ${status} for episode ${episode.id} not delivered: ${(error as Error).message}`);
    }
  };

  const startRetraining = (episode: Episode, pipeline: string): void => {
    episode.retraining = { status: 'running' };
    options.retrain(episode).then(
      (runUuid) => {
        episode.retraining = { status: 'finished', runUuid };
        retrainings.inc({ pipeline, outcome: 'finished' });
        options.log(`retraining for episode ${episode.id} logged MLflow run ${runUuid}`);
      },
      (error: Error) => {
        episode.retraining = { status: 'failed', error: error.message };
        retrainings.inc({ pipeline, outcome: 'failed' });
        options.log(`retraining for episode ${episode.id} failed: ${error.message}`);
      },
    );
  };

  /** A window whose every detector has answered: count it in its pipeline's streak, open or close an episode. */
  const settle = async (w: Window): Promise<void> => {
    const s = streaks.get(w.pipeline) ?? { drift: 0, quiet: 0 };
    streaks.set(w.pipeline, s);
    if (w.drift) {
      s.drift += 1;
      s.quiet = 0;
    } else {
      s.quiet += 1;
      s.drift = 0;
    }
    if (s.open) {
      s.open.windows += w.drift ? 1 : 0;
      for (const f of w.features) s.open.features[f] = (s.open.features[f] ?? 0) + 1;
      if (w.drift && fault('alert-every-window')) await alert('firing', s.open);
      if (w.drift && fault('retrain-every-window')) startRetraining(s.open, w.pipeline);
      if (s.quiet >= options.closeAfter) {
        s.open.closedAt = new Date().toISOString();
        episodeOpen.set({ pipeline: w.pipeline }, 0);
        options.log(`episode ${s.open.id} of ${w.pipeline} closed after ${s.quiet} quiet windows`);
        await alert('resolved', s.open);
        s.open = undefined;
      }
      return;
    }
    if (s.drift >= options.openAfter) {
      const episode: Episode = { id: `${w.pipeline}-${episodes.length + 1}`, pipeline: w.pipeline, openedAt: new Date().toISOString(), features: {}, windows: s.drift, alerts: [] };
      for (const f of w.features) episode.features[f] = 1;
      episodes.push(episode);
      s.open = episode;
      episodesTotal.inc({ pipeline: w.pipeline });
      episodeOpen.set({ pipeline: w.pipeline }, 1);
      options.log(`episode ${episode.id} opened after ${s.drift} drifting windows: ${w.features.join(', ')}`);
      await alert('firing', episode);
      startRetraining(episode, w.pipeline);
    }
  };

  const read = (detector: string, record: TopicRecord): { drift: boolean; features: string[] } | undefined => {
    if ('error' in record.value) {
      options.log(`${detector} record ${record.offset}: ${record.value.error}`);
      return undefined;
    }
    const { outputs } = record.value;
    const get = (name: string): number[] => (outputs.find((o) => o.name === name)?.data as number[] | undefined) ?? [];
    const drift = get('is_drift')[0] === 1;
    const p = get('p_val');
    const threshold = get('threshold');
    const names = options.detectors.get(detector)!;
    windowsTotal.inc({ detector, drift: String(drift) });
    isDrift.set({ detector }, drift ? 1 : 0);
    const kept = history.get(detector)!;
    const multivariate = p.length === 1 && names.length !== 1;
    const bound = threshold.length === 1 ? threshold[0] : Math.max(...threshold);
    kept.push({ detector, offset: record.offset, at: record.timestamp, drift, pValues: multivariate ? { all: p[0] } : Object.fromEntries(p.map((v, j) => [names[j] ?? String(j), v])), ...(threshold.length > 0 ? { threshold: bound } : {}) });
    if (kept.length > VERDICTS_KEPT) kept.splice(0, kept.length - VERDICTS_KEPT);
    if (multivariate) {
      pValue.set({ detector, feature: 'all' }, p[0]);
      return { drift, features: drift ? names : [] };
    }
    p.forEach((v, j) => pValue.set({ detector, feature: names[j] ?? String(j) }, v));
    return { drift, features: drift ? names.filter((_, j) => p[j] < bound) : [] };
  };

  /** Read every topic once from where it was left; settle the windows all detectors have answered. */
  const poll = async (): Promise<void> => {
    for (const detector of options.detectors.keys()) {
      const topic = `seldon.${options.namespace}.model.${detector}.outputs`;
      if (!offsets.has(detector)) {
        const start = options.from === 'latest' ? (await options.readTopic(topic, 'end')).next_offset : 0;
        offsets.set(detector, start);
        startOffsets.set(detector, start);
      }
      const { records, next_offset } = await options.readTopic(topic, offsets.get(detector)!);
      offsets.set(detector, next_offset);
      for (const record of records) {
        const verdict = read(detector, record);
        const w = windows.get(record.key) ?? { key: record.key, pipeline: record.headers.pipeline, drift: false, features: [], seen: new Set<string>() };
        windows.set(record.key, w);
        w.seen.add(detector);
        if (verdict) {
          w.drift ||= verdict.drift;
          w.features.push(...verdict.features.filter((f) => !w.features.includes(f)));
        }
      }
    }
    // in the order the windows closed; a window waits until each detector of its pipeline has answered
    for (const w of [...windows.values()]) {
      if (w.seen.size < options.detectors.size) break;
      windows.delete(w.key);
      await settle(w);
    }
  };

  return {
    registry,
    poll,
    episodes: (): Episode[] => episodes,
    offsets: (): Record<string, number> => Object.fromEntries(offsets),
    startOffsets: (): Record<string, number> => Object.fromEntries(startOffsets),
    windows: (): Record<string, WindowVerdict[]> => Object.fromEntries([...history].map(([d, v]) => [d, [...v]])),
  };
}
