@performance @latency @issue=2
Feature: Inference latency under load
  In order to use the predictions before the market moves
  As a trading desk lead
  I want the experiment endpoint to stay fast and error-free under a burst of requests

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:burst-latency
  Scenario Outline: A burst of <requests> requests from <virtual users> users on the experiment endpoint stays fast
    When <virtual users> virtual users send <requests> market snapshots to the "financial-ab-test" experiment
    Then the 95th percentile latency is below <p95 ms> milliseconds
    And none of the <requests> requests fails

    Examples:
      | virtual users | requests | p95 ms |
      | 4             | 600      | 100    |
