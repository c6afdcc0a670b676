@security @input-validation @issue=2 @issue=7
Feature: Malformed inference requests
  In order to keep the platform available when a client misbehaves
  As a security officer
  I want every malformed request refused with the client error a Seldon Core v2 platform gives,
  the error body of the part that refused it, the platform healthy afterwards,
  and every refusal counted under its own status code

  # Who refuses what on a Seldon Core v2 platform:
  #   422 + a validation error: MLServer's request validation (FastAPI {"detail": [...]})
  #   400 + an error message:  the model's runtime (MLServer {"error": "..."})
  #   404 + no body:           no route to the model (Envoy)
  #   413 + an error message:  the request size limit in front of the platform

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:bad-input
  Scenario Outline: A malformed request is refused cleanly: <malformed request>
    When a client sends <malformed request> to the "enhanced-predictor" predictor
    Then the request is refused with HTTP status <status> and <error body>
    And the platform still answers a valid request to "enhanced-predictor"

    Examples:
      | malformed request                            | status | error body         |
      | a body that is not JSON                      | 422    | a validation error |
      | a request without inputs                     | 422    | a validation error |
      | a tensor of an unknown datatype              | 422    | a validation error |
      | a tensor of the wrong shape                  | 400    | an error message   |
      | a tensor whose data does not fill its shape  | 400    | an error message   |
      | a tensor of the wrong datatype               | 400    | an error message   |
      | a tensor holding text                        | 400    | an error message   |
      | a request for an unknown model               | 404    | no body            |
      | an oversized body                            | 413    | an error message   |

  @severity:critical @story:bad-input-accounting
  Scenario: Refused requests are counted under their own status codes, never as answered
    When a client sends these malformed requests to the "ensemble-predictor" predictor
      | malformed request           | count |
      | a body that is not JSON     | 3     |
      | a request without inputs    | 2     |
      | a tensor of the wrong shape | 2     |
      | a tensor holding text       | 1     |
    Then the platform counts each refused request under its own status code and none as answered
    And within 10 seconds Prometheus counts the refused requests the same way
