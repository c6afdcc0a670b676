@integration @mlflow @issue=2
Feature: From the MLflow store to the served models and their metrics
  In order to trust that what was approved in training is what is served
  As an MLOps engineer
  I want the accuracy logged for each training run to be the accuracy of the model being served,
  and the platform metrics to count every request that reaches it

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:mlflow-serving
  Scenario: The accuracy logged in MLflow is the accuracy of the served model
    Given the training runs of this release are logged in the MLflow store
    When the held-out market days are scored through each served predictor
    Then each predictor's served accuracy equals its logged accuracy within 0.000001

  @severity:critical @story:metrics
  Scenario: The platform metrics count every request sent
    When 120 market snapshots are sent to the "financial-ab-test" experiment
    And 30 market snapshots are sent to the "decision-tree-predictor" predictor
    Then the request count in the platform metrics equals the requests sent
