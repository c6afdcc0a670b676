@functional @deployment @issue=7
Feature: One broken resource does not take a deployment down
  In order to know exactly what a release with a faulty resource serves
  As a platform engineer
  I want each resource of a deployment reported ready, or not ready with the platform's reason,
  the faulty one refused or held back on its own, and every valid one serving

  @severity:critical @story:partial-deployment
  Scenario: A deployment with a broken Experiment, an unschedulable Model and a Pipeline serves what is valid
    When the "partly-broken" deployment is applied
    Then the resources report their readiness as
      | kind       | name             | ready | reason                                                        |
      | Model      | steady-baseline  | True  |                                                               |
      | Model      | steady-enhanced  | True  |                                                               |
      | Experiment | steady-ab        | True  |                                                               |
      | Model      | gpu-predictor    | False | Failed to schedule model as no matching servers are available |
      | Experiment | regime-challenge | False | Candidates not ready                                          |
      | Pipeline   | regime-pipeline  | False | PipelineFailed                                                |
    And the object "Model/oversized-memory" is refused when applied, naming the field "spec.memory"
    And every resource reported ready answers a prediction
    And no resource reported not ready answers a prediction
