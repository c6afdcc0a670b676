@functional @drift @issue=11
Feature: Drift in the market's features is detected and named, without false alarms
  In order to know when the market has moved away from the days the models were trained on
  As the head of market risk
  I want drift detectors that stay quiet on days like the training days, catch a shift of half a
  standard deviation in the volatility features, name the features that moved, and see a change in
  how features move together that tests of each feature alone cannot see

  The detectors are Models of MLServer's alibi-detect runtime (k8s/drift), each holding a seeded
  sample of 500 training days as its reference: "feature-drift-detector" tests each of the 25
  features on its own (Kolmogorov-Smirnov, Bonferroni), "volatility-mmd-detector" tests the three
  volatility features together (MMD, permutation p-value). A reference-like window is a random
  sample of the training days the reference did not take: the days the models were trained on,
  so a detector that reports drift there is raising a false alarm.

  In the pipeline "financial-drift-monitoring" both detectors sit on a branch that collects 200
  requests per window. The drift monitor reads their verdicts, opens an episode after 2 drifting
  windows in a row and closes it after 2 quiet ones; when an episode opens it alerts the harness's
  webhook and starts one retraining job, which logs an MLflow run and a new model version.

  Background:
    Given the drift detectors "feature-drift-detector" and "volatility-mmd-detector" are deployed and ready

  @severity:critical @story:drift-false-alarms
  Scenario: Windows like the training days raise no more false alarms than the detector's p_val allows
    When 200 reference-like windows of 200 days are sent to "feature-drift-detector"
    Then the share of windows "feature-drift-detector" reports as drift is within the one-sided binomial bound at 0.01 for its p_val 0.05

  @severity:critical @story:drift-power
  Scenario: Half a standard deviation more volatility is detected, and the shifted features are named
    When 50 reference-like windows of 200 days with the volatility features shifted by 0.5 standard deviations are sent to "feature-drift-detector"
    Then "feature-drift-detector" reports at least 0.9 of such windows as drift, at 95 % confidence
    And every window "feature-drift-detector" reports as drift names a shifted feature as its strongest drift

  @severity:normal @story:drift-correlation
  Scenario: MMD catches a change in how the volatility features move together that per-feature tests miss
    When 30 reference-like windows of 200 days with implied volatility shuffled within the window are sent to "volatility-mmd-detector" and "feature-drift-detector"
    Then "volatility-mmd-detector" reports at least 0.9 of such windows as drift, at 95 % confidence
    And "feature-drift-detector" reports no more of them than the one-sided binomial bound at 0.01 for its p_val 0.05

  @severity:critical @story:drift-alerting
  Scenario: A drift episode raises one alert, one retraining and the drift metric, however many windows drift
    Given the drift monitor is watching the pipeline "financial-drift-monitoring"
    When 400 reference-like days, then 600 days with the volatility features shifted by 0.5 standard deviations, then 400 reference-like days go through "financial-drift-monitoring", one request each
    Then within 30 seconds the drift monitor has sent one firing alert naming the shifted features and one resolved alert
    And within 20 seconds Prometheus counts as many drifting windows of "feature-drift-detector" as its output topic holds, in one episode
    And within 60 seconds exactly one retraining run, with a new model version, is logged in MLflow for the episode
    And within 20 seconds the dashboard's drift view shows the verdicts of "feature-drift-detector" and "volatility-mmd-detector" and the episode
