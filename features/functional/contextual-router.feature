@functional @router @issue=10
Feature: A contextual router sends each day to the predictor built for its market regime
  In order to keep calls sound when the market turns
  As the head of model risk
  I want each request answered by the predictor of the day's market regime, as the router's
  thresholds say, and a request without its market context refused rather than guessed

  The router is the Pipeline "contextual-financial-router" (k8s/router): its first step reads the
  day's 20-day volatility and 20-day trend and triggers one predictor step. The thresholds are the
  router Model's parameters; the examples below are the plan's rules and their boundaries, and a
  new row is a new check.

  Background:
    Given the A/B testing stack is deployed
    And the contextual router pipeline "contextual-financial-router" is deployed and ready

  @severity:critical @story:regime-routing
  Scenario Outline: A day with volatility <volatility> and trend <trend> goes to the <predictor>
    When a held-out day with volatility <volatility> and trend <trend> is sent to the router
    Then it is answered by "<predictor>"

    Examples: volatility above 0.30 wins, whatever the trend
      | volatility | trend | predictor        |
      | 0.45       | 0.00  | robust-predictor |
      | 0.31       | 0.05  | robust-predictor |
      | 0.31       | -0.05 | robust-predictor |

    Examples: at or below 0.30, a trend above 0.02 or below -0.02 decides
      | volatility | trend  | predictor              |
      | 0.30       | 0.05   | aggressive-predictor   |
      | 0.10       | 0.021  | aggressive-predictor   |
      | 0.10       | -0.021 | conservative-predictor |
      | 0.29       | -0.05  | conservative-predictor |

    Examples: otherwise the baseline, the thresholds themselves included
      | volatility | trend | predictor          |
      | 0.10       | 0.02  | baseline-predictor |
      | 0.10       | -0.02 | baseline-predictor |
      | 0.10       | 0.00  | baseline-predictor |

  @severity:critical @story:volatile-uplift
  Scenario: In volatile markets the routed calls beat the baseline predictor's by the plan's uplift
    The days come from an evaluation history of the seeded market generator that no predictor was
    fitted on. 5000 days give the test about 75 % power when the true uplift is 19 %.

    When 5000 volatile market days, never trained on, are sent to the router, each with its own market context, and to "baseline-predictor" alone
    Then the routed accuracy is at least 15 % above the baseline's, at 95 % confidence

  @severity:critical @story:missing-context
  Scenario: A request without its market context is refused, naming what is missing
    When held-out days are sent to the router, each without one of its context tensors: "volatility, trend"
    Then each is refused with a 4xx and an error body that names the missing tensor

  @severity:normal @story:routing-view
  Scenario: The dashboard shows where the router sent the days, as the platform counted them
    When 40 held-out days are sent to the router, each with its own market context
    Then within 20 seconds the dashboard's routing view shows the days routed and each regime's requests as the platform counted them
