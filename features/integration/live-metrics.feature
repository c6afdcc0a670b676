@integration @metrics @issue=3
Feature: Live metrics from the served models to the dashboard
  In order to decide from dashboards that show what really happened
  As a release manager
  I want every request the platform answers to reach Prometheus under the right model, the
  dashboard to count exactly the requests each model answered, and a clearly labelled fallback when
  a source goes down

  Background:
    Given the A/B testing stack is deployed
    And Prometheus is scraping the platform

  @severity:critical @story:mlflow-seldon-prometheus
  Scenario: Requests flow from the trained models through serving to Prometheus and the dashboard
    Given the training runs of this release are logged in the MLflow store
    When 200 market snapshots are sent to the "financial-ab-test" experiment
    And 40 market snapshots are sent to the "ensemble-predictor" predictor
    Then within 10 seconds Prometheus counts each request under the model that answered it
    And every model Prometheus counts has a finished training run in the MLflow store
    And the dashboard's request counts grow by the requests each model answered

  @severity:critical @story:prometheus-outage @prometheus-outage
  Scenario: The dashboard falls back to the platform's own metrics when Prometheus stops
    Given a stakeholder has the A/B testing dashboard open
    When 50 market snapshots are sent to the "financial-ab-test" experiment
    And Prometheus stops
    Then within 10 seconds the dashboard labels its serving figures as the platform's own metrics and names the cause
    And the request counts it shows grow by the requests each model answered
    And the dashboard and the platform keep answering
    When Prometheus is started again
    Then within 15 seconds the dashboard labels its serving figures as Prometheus again
