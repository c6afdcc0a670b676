@functional @roi @issue=12
Feature: The business case for the enhanced predictor, from this release's own data
  In order to decide whether the enhanced predictor is worth what it costs
  As the head of the trading desk
  I want its return on investment and payback computed from the accuracies this release logged in
  the MLflow store and the requests the platform answered in this run, with our assumptions in
  fixtures/roi-assumptions.yaml (value of a correct call, daily volume, costs, period) in plain view

  The uplift is the enhanced predictor's accuracy on held-out market days minus the baseline's; the
  revenue increase is the projected daily volume times the share of requests answered times the
  uplift times the value of a correct call, over the period; the ROI is (revenue increase - cost) /
  cost. The sign-off recomputes the same case from this run's inputs and the assumptions as they
  stand when it is written.

  Background:
    Given the A/B testing stack is deployed
    And Prometheus is scraping the platform

  @severity:normal @story:roi
  Scenario: The enhanced predictor pays for itself within a month
    When 200 market snapshots are sent to the "financial-ab-test" experiment
    And the business case of "enhanced-predictor" over "baseline-predictor" is computed with the assumptions in "fixtures/roi-assumptions.yaml"
    Then the return on investment over the period is at least 1000 % and the cost is paid back within 30 days
