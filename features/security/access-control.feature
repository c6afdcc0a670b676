@security @access-control @issue=14
Feature: Namespace isolation and least-privilege access to the Kubernetes API
  In order to keep the platform's models, weights and credentials out of reach of whatever does not need them
  As a security officer
  I want every manifest of the platform checked against the security policy, and the access each of
  its identities has through the Kubernetes API proven on an API server to be exactly the access I
  declare in the table below

  # Where the access is proven: the Kubernetes API server of the target. On a cluster, the
  # platform's operators install k8s/security and the harness only asks (bind the ClusterRole of
  # k8s/rbac/harness-security-auditor.yaml to the identity the suite runs as); the embedded default
  # starts a kube-apiserver of its own on loopback and installs k8s/security there.
  # NetworkPolicies are stored by an API server but enforced only by a network plugin, so they are
  # checked in the manifests: default deny in every namespace, no rule open to everything.

  @severity:critical @story:security-policy
  Scenario: Every manifest of the platform follows the security policy
    When every manifest under k8s/ is checked against the security policy
    Then no manifest breaks a rule of the policy

  # The access matrix. One line per request an identity might make:
  #   subject    the platform identity: namespace/serviceaccount
  #   verb       get, list, watch, create, update, patch, delete, deletecollection (never a wildcard)
  #   resource   group/resource[/subresource]; the core group is written core
  #   name       one object's name, when the rule under test names objects; empty otherwise
  #   namespace  where the request is made; * asks for every namespace at once
  #   expected   allowed or denied
  # Each line is checked twice: the API server's SubjectAccessReview answer, and the real request
  # made with a token of the subject's own (HTTP 403 where denied; any other answer but 401 where
  # allowed: a 404 for an object that does not exist was let through). Writes are server-side dry
  # runs. Add a line to ask about another request; a line answered differently fails the scenario,
  # naming the line.
  @severity:critical @story:access-matrix
  Scenario: Each platform identity has exactly the declared access through the Kubernetes API
    Given the platform's identities on the Kubernetes API server of the target
    When the API server is asked about each line of this access matrix
      | subject                              | verb   | resource                           | name                     | namespace               | expected |
      | seldon-mesh/bandit-controller        | get    | mlops.seldon.io/experiments        |                          | seldon-mesh             | allowed  |
      | seldon-mesh/bandit-controller        | list   | mlops.seldon.io/experiments        |                          | seldon-mesh             | allowed  |
      | seldon-mesh/bandit-controller        | watch  | mlops.seldon.io/experiments        |                          | seldon-mesh             | allowed  |
      | seldon-mesh/bandit-controller        | patch  | mlops.seldon.io/experiments        |                          | seldon-mesh             | allowed  |
      | seldon-mesh/bandit-controller        | patch  | mlops.seldon.io/experiments        |                          | financial-inference     | denied   |
      | seldon-mesh/bandit-controller        | patch  | mlops.seldon.io/experiments        |                          | financial-mlops-pytorch | denied   |
      | seldon-mesh/bandit-controller        | list   | mlops.seldon.io/experiments        |                          | *                       | denied   |
      | seldon-mesh/bandit-controller        | create | mlops.seldon.io/experiments        |                          | seldon-mesh             | denied   |
      | seldon-mesh/bandit-controller        | delete | mlops.seldon.io/experiments        |                          | seldon-mesh             | denied   |
      | seldon-mesh/bandit-controller        | patch  | mlops.seldon.io/experiments/status |                          | seldon-mesh             | denied   |
      | seldon-mesh/bandit-controller        | patch  | mlops.seldon.io/models             |                          | seldon-mesh             | denied   |
      | seldon-mesh/bandit-controller        | get    | core/secrets                       |                          | seldon-mesh             | denied   |
      | seldon-mesh/drift-monitor            | get    | mlops.seldon.io/models             |                          | seldon-mesh             | allowed  |
      | seldon-mesh/drift-monitor            | watch  | mlops.seldon.io/pipelines          |                          | seldon-mesh             | allowed  |
      | seldon-mesh/drift-monitor            | patch  | mlops.seldon.io/models             |                          | seldon-mesh             | denied   |
      | seldon-mesh/drift-monitor            | patch  | mlops.seldon.io/experiments        |                          | seldon-mesh             | denied   |
      | seldon-mesh/drift-monitor            | list   | mlops.seldon.io/models             |                          | financial-inference     | denied   |
      | seldon-mesh/drift-monitor            | list   | core/secrets                       |                          | seldon-mesh             | denied   |
      | financial-inference/inference-client | get    | core/secrets                       |                          | financial-inference     | denied   |
      | financial-inference/inference-client | list   | core/secrets                       |                          | financial-inference     | denied   |
      | financial-inference/inference-client | list   | core/secrets                       |                          | seldon-mesh             | denied   |
      | financial-inference/inference-client | get    | core/secrets                       | mlflow-db-credentials    | financial-mlops-pytorch | denied   |
      | financial-inference/inference-client | get    | mlops.seldon.io/models             |                          | seldon-mesh             | denied   |
      | financial-inference/inference-client | list   | core/pods                          |                          | financial-inference     | denied   |
      | financial-mlops-pytorch/training-job | get    | core/secrets                       | mlflow-db-credentials    | financial-mlops-pytorch | allowed  |
      | financial-mlops-pytorch/training-job | get    | core/secrets                       | mlflow-admin-credentials | financial-mlops-pytorch | denied   |
      | financial-mlops-pytorch/training-job | list   | core/secrets                       |                          | financial-mlops-pytorch | denied   |
      | financial-mlops-pytorch/training-job | watch  | core/secrets                       |                          | financial-mlops-pytorch | denied   |
      | financial-mlops-pytorch/training-job | update | core/secrets                       | mlflow-db-credentials    | financial-mlops-pytorch | denied   |
      | financial-mlops-pytorch/training-job | get    | core/secrets                       | mlflow-db-credentials    | seldon-mesh             | denied   |
      | financial-mlops-pytorch/training-job | patch  | mlops.seldon.io/experiments        |                          | seldon-mesh             | denied   |
    Then the API server answers every line as declared, to an access review and to the request made with the identity's own token
