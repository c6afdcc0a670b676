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
