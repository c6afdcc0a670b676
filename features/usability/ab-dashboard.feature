@usability @dashboard @issue=2
Feature: A/B testing dashboard
  In order to follow the A/B test without asking an engineer
  As a business stakeholder
  I want a dashboard that shows each predictor's accuracy and says where every figure comes from

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:ab-dashboard
  Scenario: The dashboard shows both predictors' accuracy with its source
    When a stakeholder opens the A/B testing dashboard
    Then the dashboard loads in less than 5000 milliseconds
    And it shows the accuracy of "baseline-predictor" and "enhanced-predictor" as logged in the MLflow store
    And every figure on the dashboard names its data source
