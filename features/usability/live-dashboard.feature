@usability @dashboard @issue=3
Feature: Live dashboard
  In order to follow the A/B test and its business impact without asking an engineer
  As a business stakeholder
  I want a live dashboard that shows every figure with its source, lets me choose the period and
  the models, refreshes itself, and works by keyboard and on a phone

  Background:
    Given the A/B testing stack is deployed
    And 200 market snapshots are sent to the "financial-ab-test" experiment

  @severity:critical @story:ab-dashboard
  Scenario: The dashboard shows both predictors' accuracy with its source
    When a stakeholder opens the A/B testing dashboard
    Then the dashboard loads in less than 5000 milliseconds
    And it shows the accuracy of "baseline-predictor" and "enhanced-predictor" as logged in the MLflow store
    And every figure on the dashboard names its data source
    And no figure on the dashboard is simulated

  @severity:normal @story:dashboard-filters
  Scenario: Choosing a time window and models changes what is charted
    When a stakeholder opens the A/B testing dashboard
    And chooses the last "15m" and only the "enhanced-predictor" model
    Then the charts show only "enhanced-predictor" over the last "15m"
    And the per-model figures shown are only those of "enhanced-predictor"

  @severity:normal @story:dashboard-refresh
  Scenario: The dashboard refreshes itself
    When a stakeholder opens the A/B testing dashboard
    Then the figures are refreshed without any action within 10 seconds

  @severity:normal @story:dashboard-screens
  Scenario Outline: The dashboard is readable on a <device>
    When a stakeholder opens the A/B testing dashboard on a <width> by <height> screen
    Then the page needs no horizontal scrolling
    And all 7 charts are drawn

    Examples:
      | device | width | height |
      | laptop | 1280  | 800    |
      | phone  | 390   | 844    |

  @severity:critical @story:accessibility
  Scenario: No serious accessibility barrier
    When a stakeholder opens the A/B testing dashboard
    Then an automated accessibility scan finds no serious or critical violation

  @severity:normal @story:keyboard
  Scenario: The main views work by keyboard
    When a stakeholder opens the A/B testing dashboard
    Then the keyboard reaches these controls in this order
      | A/B testing           |
      | Business impact       |
      | Bandit allocation     |
      | Drift status          |
      | Explanations          |
      | Security              |
      | Time window           |
      | baseline-predictor    |
      | enhanced-predictor    |
      | Refresh automatically |
      | Refresh now           |
    And pressing Enter on "Business impact" opens the "business" view
    And pressing Space on the "ensemble-predictor" filter removes it from the charts

  @severity:normal @story:security-view
  Scenario: The security view shows the run's security results as its evidence ledger holds them
    When a stakeholder opens the A/B testing dashboard
    Then within 10 seconds the security view shows the latest result of every security check in the run's evidence ledger, with its source
