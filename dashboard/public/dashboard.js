// The dashboard page: polls /api/dashboard, draws every figure with its source badge and every
// chart with ECharts (SVG renderer), and keeps the window and model filter in the address bar.
// Each view (A/B testing, business impact, bandit, routing, drift, explanations, security) is a tab
// of its own, chosen by the address's fragment, so `/?window=15m#drift` links to the drift view.
/* global echarts */
(function () {
  'use strict';
  const state = { window: '5m', models: [], knownModels: null, timer: null, refreshSeconds: 5, charts: {}, options: {}, requests: 0, view: 'ab' };
  const VIEWS = ['ab', 'business', 'bandit', 'router', 'drift', 'explanations', 'security'];
  // a security check's verdict, in words (never by colour alone)
  const STATUS = { passed: 'check passed', failed: 'check FAILED', 'not checked': 'not checked yet' };
  const $ = (selector) => document.querySelector(selector);

  function readAddress() {
    const params = new URLSearchParams(location.search);
    if (params.get('window')) state.window = params.get('window');
    state.models = (params.get('models') || '').split(',').filter(Boolean);
  }

  function writeAddress() {
    const params = new URLSearchParams();
    params.set('window', state.window);
    if (state.models.length > 0) params.set('models', state.models.join(','));
    history.replaceState(null, '', `${location.pathname}?${params}${location.hash}`);
  }

  function formatValue(f) {
    if (f.value === null) return 'n/a';
    if (f.unit === 'ratio') return `${(f.value * 100).toFixed(1)} %`;
    if (f.unit === 'ms') return `${f.value.toFixed(2)} ms`;
    if (f.unit === 'req/s') return `${f.value.toFixed(2)} req/s`;
    if (Number.isInteger(f.value)) return `${f.value.toLocaleString('en')} ${f.unit}`;
    return `${f.value.toFixed(Math.abs(f.value) < 1 ? 4 : 2)} ${f.unit}`;
  }

  function renderFigures(container, figures) {
    container.replaceChildren(
      ...figures.map((f) => {
        const card = document.createElement('section');
        card.className = 'figure';
        card.dataset.figure = f.id;
        card.dataset.unit = f.unit;
        card.setAttribute('aria-label', f.label);
        const title = document.createElement('h3');
        title.textContent = f.label;
        const value = document.createElement('p');
        value.className = 'value';
        value.dataset.value = f.value === null ? '' : String(f.value);
        value.textContent = formatValue(f);
        const badge = document.createElement('p');
        badge.className = 'source-badge';
        badge.dataset.source = f.source;
        badge.textContent = `source: ${f.source}`;
        badge.title = `read ${f.observedAt}`;
        card.dataset.observedAt = f.observedAt;
        card.append(title, value, badge);
        if (f.status) {
          const status = document.createElement('p');
          status.className = 'check-status';
          status.dataset.status = f.status;
          status.textContent = STATUS[f.status] || f.status;
          if (f.scenario) status.title = `recorded by "${f.scenario}"`;
          card.append(status);
        }
        if (f.note) {
          const note = document.createElement('p');
          note.className = 'note';
          note.textContent = f.note;
          card.append(note);
        }
        return card;
      }),
    );
  }

  // The source caption is the figure's caption under the chart, not the chart's subtitle; on a
  // narrow screen titles wrap, and category labels under the plot slant and get room below them.
  function fitToWidth(option, width) {
    const title = option.title || {};
    const narrow = width < 520;
    // the title wraps within the chart; the plot starts below its lines
    const fontSize = narrow ? 13 : 15;
    const lines = Math.max(1, Math.ceil(((title.text || '').length * fontSize * 0.6) / (width - 24)));
    const fitted = {
      ...option,
      title: { ...title, subtext: '', textStyle: { ...title.textStyle, fontSize, lineHeight: fontSize + 6, width: width - 24, overflow: 'break' } },
      grid: { ...option.grid, top: 24 + lines * (fontSize + 6) },
    };
    if (!narrow) return fitted;
    fitted.grid = { ...fitted.grid, right: 12 };
    const axis = option.xAxis;
    if (axis && axis.type === 'category') {
      fitted.grid.bottom = Math.max(fitted.grid.bottom || 0, 120);
      fitted.xAxis = { ...axis, nameGap: 90, axisLabel: { ...axis.axisLabel, rotate: 45, fontSize: 10 } };
    }
    return fitted;
  }

  // The view the address names (another fragment, such as the skip link's, keeps the current one).
  function showView() {
    const wanted = location.hash.slice(1);
    if (VIEWS.includes(wanted)) state.view = wanted;
    for (const view of VIEWS) document.getElementById(view).hidden = view !== state.view;
    for (const link of document.querySelectorAll('#views a[data-view]')) {
      if (link.dataset.view === state.view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.body.dataset.view = state.view;
    // a chart whose data came while its view was hidden is drawn now, at the size it has
    for (const [name, option] of Object.entries(state.options)) renderChart(name, option);
  }

  function renderChart(name, original) {
    const node = document.getElementById(`chart-${name}`);
    if (!node || !original) return;
    state.options[name] = original;
    // a hidden view has no size to draw in: its charts are drawn when it is shown
    if (node.closest('section[id]').hidden) return;
    const option = fitToWidth(original, node.clientWidth);
    const caption = document.querySelector(`[data-chart-source="${name}"]`);
    if (caption) caption.textContent = (original.title || {}).subtext || '';
    if (typeof echarts === 'undefined') {
      // the figures still show; the chart says why it is missing
      node.textContent = 'Chart unavailable: the chart library did not load.';
      return;
    }
    let chart = state.charts[name];
    if (!chart) chart = state.charts[name] = echarts.init(node, null, { renderer: 'svg' });
    else chart.resize(); // the view may have been hidden while the window changed size
    chart.setOption(option, true);
    const title = option.title || {};
    node.setAttribute('role', 'img');
    node.setAttribute('aria-label', `${title.text || name}. ${title.subtext || ''}`);
    const categoryAxis = [option.xAxis, option.yAxis].find((a) => a && a.type === 'category' && a.data);
    const categories = categoryAxis ? categoryAxis.data : null;
    node.dataset.charted = JSON.stringify({ window: state.window, categories, series: (option.series || []).map((s) => s.name) });
  }

  function renderControls(data) {
    const select = $('#window');
    if (select.options.length === 0) {
      for (const w of data.windows) select.add(new Option(`last ${w}`, w));
    }
    select.value = data.window;
    if (!state.knownModels) {
      state.knownModels = data.models;
      const fieldset = $('#model-filter');
      for (const m of data.models) {
        const id = `model-${m}`;
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.id = id;
        input.value = m;
        input.checked = state.models.length === 0 || state.models.includes(m);
        const label = document.createElement('label');
        label.htmlFor = id;
        label.textContent = m;
        const wrap = document.createElement('span');
        wrap.className = 'control';
        wrap.append(input, label);
        fieldset.append(wrap);
        input.addEventListener('change', onFilterChange);
      }
    }
  }

  function onFilterChange() {
    const checked = [...document.querySelectorAll('#model-filter input:checked')].map((i) => i.value);
    state.models = checked.length === state.knownModels.length ? [] : checked;
    writeAddress();
    void load();
  }

  async function load() {
    // A later request (a filter change during an auto-refresh) supersedes an earlier one: an answer
    // that arrives after a newer request was sent is dropped, so stale figures never overwrite newer ones.
    const request = ++state.requests;
    const params = new URLSearchParams({ window: state.window });
    if (state.models.length > 0) params.set('models', state.models.join(','));
    try {
      const res = await fetch(`/api/dashboard?${params}`, { cache: 'no-store' });
      const data = await res.json();
      if (request !== state.requests) return;
      if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
      state.refreshSeconds = data.refreshSeconds;
      renderControls(data);
      $('#experiment-summary').textContent = `Experiment ${data.experiment.name}: ${data.experiment.candidates.map((c) => `${c.name} weight ${c.weight}`).join(', ')}`;
      renderFigures($('#ab-figures'), data.ab.figures);
      renderFigures($('#business-figures'), data.business.figures);
      const note = $('#ab-note');
      note.hidden = !data.ab.servingNote;
      note.textContent = data.ab.servingNote ? `Serving figures: ${data.ab.servingNote}` : '';
      for (const [name, option] of Object.entries(data.ab.charts)) renderChart(name, option);
      for (const [name, option] of Object.entries(data.business.charts)) renderChart(name, option);
      const bandit = data.bandit;
      $('#bandit-summary').textContent = bandit.figures ? `Experiment ${bandit.experiment}: weights set by ${bandit.strategy}, ${bandit.updates} updates so far` : '';
      renderFigures($('#bandit-figures'), bandit.figures || []);
      const router = data.router;
      $('#router-summary').textContent = router.figures ? `Pipeline ${router.pipeline}: the days its router sent to each regime's predictor, all models whatever the filter` : '';
      renderFigures($('#router-figures'), router.figures || []);
      const explanations = data.explanations;
      $('#explanations-summary').textContent = explanations.figures ? 'From the audit trail the explanation gateway writes: every explained instance, and the features that lead the latest ones' : '';
      renderFigures($('#explanations-figures'), explanations.figures || []);
      renderChart('shap', explanations.chart);
      const drift = data.drift;
      $('#drift-summary').textContent = drift.figures ? 'From the drift monitor: the verdicts the detectors put on their output topics, and the drift episodes it opened' : '';
      renderFigures($('#drift-figures'), drift.figures || []);
      renderChart('drift', drift.chart);
      const security = data.security;
      $('#security-summary').textContent = security.figures ? security.summary : '';
      renderFigures($('#security-figures'), security.figures || []);
      for (const key of ['bandit', 'router', 'drift', 'explanations', 'security']) {
        const empty = document.querySelector(`[data-empty="${key}"]`);
        empty.textContent = data[key].empty || '';
        empty.hidden = !data[key].empty;
      }
      document.body.dataset.generatedAt = data.generatedAt;
      document.body.dataset.window = data.window;
      document.body.dataset.models = data.selected.join(',');
      const sources = Object.entries(data.sources).map(([s, n]) => `${n} ${s}`).join(', ');
      $('#status').textContent = `Updated ${new Date(data.generatedAt).toLocaleTimeString('en-GB')} (window ${data.window}); figures by source: ${sources}`;
    } catch (error) {
      if (request !== state.requests) return;
      $('#status').textContent = `Could not refresh: ${error.message}. Showing the last figures read.`;
    }
    schedule();
  }

  function schedule() {
    clearTimeout(state.timer);
    if ($('#auto-refresh').checked) state.timer = setTimeout(load, state.refreshSeconds * 1000);
  }

  readAddress();
  showView();
  window.addEventListener('hashchange', showView);
  $('#window').addEventListener('change', (event) => {
    state.window = event.target.value;
    writeAddress();
    void load();
  });
  $('#auto-refresh').addEventListener('change', schedule);
  $('#refresh-now').addEventListener('click', () => void load());
  window.addEventListener('resize', () => Object.entries(state.charts).forEach(([name, c]) => {
    if (!document.getElementById(`chart-${name}`).closest('section[id]').hidden) c.resize();
  }));
  void load();
})();
