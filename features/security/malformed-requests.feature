@security @input-validation @issue=2
Feature: Malformed inference requests
  In order to keep the platform available when a client misbehaves
  As a security officer
  I want every malformed request refused with a clear client error, and the platform healthy afterwards

  Background:
    Given the A/B testing stack is deployed

  @severity:critical @story:bad-input
  Scenario Outline: A malformed request is refused cleanly: <malformed request>
    When a client sends <malformed request> to the "enhanced-predictor" predictor
    Then the request is refused with HTTP status <status> and an error message
    And the platform still answers a valid request to "enhanced-predictor"

    Examples:
      | malformed request                            | status |
      | a body that is not JSON                      | 400    |
      | a request without inputs                     | 400    |
      | a tensor of the wrong shape                  | 400    |
      | a tensor whose data does not fill its shape  | 400    |
      | a tensor of the wrong datatype               | 400    |
      | a tensor holding text                        | 400    |
      | a request for an unknown model               | 404    |
      | an oversized body                            | 413    |
