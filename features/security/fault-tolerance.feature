@security @reliability @issue=14
Feature: Faults survived with nothing lost
  In order to sign off a release on more than "it worked once"
  As a release manager
  I want each part of the run killed while the run goes on, its death named, the part back on its
  own, and the time it took in the sign-off

  # The parts killed are those the harness runs on both targets. Each is killed with SIGKILL, as a
  # crash or the kernel's out-of-memory killer would: no chance to clean up. Prometheus going away
  # is in features/integration/live-metrics.feature.

  @severity:critical @story:fault-drills
  Scenario: A dashboard that dies is reported and comes back on its own address
    When the dashboard process is killed
    Then the target reports the dashboard down within 2 seconds, naming how it died, and once started again the dashboard serves live figures within 30 seconds of the kill

  # The MLflow database the harness started (embedded PostgreSQL): a database given with
  # MLFLOW_DB_URL is not the harness's to kill, and the scenario fails saying so.
  @severity:critical @story:fault-drills @database-outage
  Scenario: The run survives the MLflow database being killed, and nothing logged is lost
    Given the MLflow store holds this run's predictors
    When the MLflow database is killed
    Then within 10 seconds the harness's reads of the MLflow store fail with the cause, and the dashboard shows every accuracy as unavailable, naming the store
    When the MLflow database is started again
    Then within 30 seconds the harness and the dashboard read the MLflow store again, every run logged before the kill still there
