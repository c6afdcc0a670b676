@functional @ab-testing @issue=2
Feature: A/B testing of the direction predictors
  In order to decide on evidence whether the enhanced predictor should replace the baseline
  As a model risk owner
  I want live traffic shared between the predictors exactly as the experiment says,
  every request to reach the predictor it names, and every request to be counted

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:traffic-split
  Scenario: Traffic follows the experiment weights
    Given the "financial-ab-test" experiment shares traffic as
      | predictor          | weight |
      | baseline-predictor | 70     |
      | enhanced-predictor | 30     |
    And each predictor's share may differ from its weight by at most 3 percentage points
    When enough market snapshots to show that with 90% power at alpha 0.05 are sent to the "financial-ab-test" experiment
    Then every request is answered with a prediction
    And each predictor's share of the traffic is within that margin of its weight

  @severity:normal @story:traffic-split
  Scenario: Traffic addressed to the baseline is shared with the challenger while the experiment runs
    Given the "financial-ab-test" experiment shares traffic as
      | predictor          | weight |
      | baseline-predictor | 70     |
      | enhanced-predictor | 30     |
    And each predictor's share may differ from its weight by at most 3 percentage points
    When enough market snapshots to show that with 90% power at alpha 0.05 are sent to the "baseline-predictor" predictor
    Then each predictor's share of the traffic is within that margin of its weight

  @severity:critical @story:direct-routing
  Scenario Outline: A request naming a predictor other than the experiment baseline reaches that predictor: <predictor>
    When 25 market snapshots are sent to the "<predictor>" predictor
    Then every answer comes from "<predictor>"

    Examples:
      | predictor               |
      | enhanced-predictor      |
      | ensemble-predictor      |
      | decision-tree-predictor |

  @severity:critical @story:request-accounting
  Scenario: Every request is counted in the platform metrics under the predictor that answered it
    When 300 market snapshots are sent to the "financial-ab-test" experiment
    And 40 market snapshots are sent to the "ensemble-predictor" predictor
    Then the platform metrics count each predictor's requests exactly
