@security @secret-hygiene @issue=14
Feature: The run's credentials stay secret
  In order to sign off a platform whose credentials do not leak through its own test evidence
  As a security officer
  I want the MLflow database to accept no password in clear, and no credential of the run (the
  database password, the Kubernetes tokens of the harness and of the platform's identities) in any
  file the run writes or in any process's command line

  # Where the scan looks: every file under the run's report folder (Allure results and attachments,
  # logs, evidence, screenshots, Playwright traces) and /proc/<pid>/cmdline of every process. Each
  # credential is looked for as written, URL-encoded and base64-encoded. A hit names the file or the
  # process and which credential, never its value. The same scan runs once more after the last
  # scenario of the run, over everything it wrote (criterion no-credential-in-run-output-at-end).

  @severity:critical @story:secret-hygiene
  Scenario: The MLflow database accepts no password in clear
    Then the MLflow database asks for SCRAM-SHA-256 authentication, never a password in clear

  @severity:critical @story:secret-hygiene
  Scenario: No credential of the run is written to its reports or shown on a command line
    Then no file under the run's reports holds a credential of the run, nor does any process's command line
