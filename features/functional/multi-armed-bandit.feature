@functional @mab @issue=10
Feature: A multi-armed bandit over the direction predictors
  In order to earn more from live traffic while it is still unclear which predictor is best
  As the head of the trading desk
  I want a bandit to move traffic towards the predictors whose calls earn the most on real market
  days, and away from the one that earns the least, faster than a fixed split would

  The replays are seeded: the scenarios below that send the same replays share one measurement
  per run, and the report says which scenario took it.

  Background:
    Given the A/B testing stack is deployed
    And the bandit runs the "financial-mab-experiment" experiment, starting from the weights
      | predictor               | weight |
      | baseline-predictor      | 40     |
      | enhanced-predictor      | 30     |
      | ensemble-predictor      | 20     |
      | decision-tree-predictor | 10     |
    And each predictor's business value is measured on every held-out market day, net of 5 basis points of trading cost per call

  @severity:critical @story:learning
  Scenario: The bandit earns more than the static split
    When 12 seeded replays of 800 held-out market days are sent to the bandit, each answer's business value fed back
    Then the bandit's cumulative regret is at least 20 % below the static initial split's, at 95 % confidence

  @severity:critical @story:learning
  Scenario: The bandit stops feeding the predictor that earns the least
    When 12 seeded replays of 800 held-out market days are sent to the bandit, each answer's business value fed back
    Then the predictor with the lowest business value receives at most 20 % of the last 200 requests of a replay (half its starting weight), at 95 % confidence

  @severity:normal @story:transparency
  Scenario: The weights the bandit sets can be seen on the experiment and in its metrics
    When 12 seeded replays of 800 held-out market days are sent to the bandit, each answer's business value fed back
    Then the weights the bandit set are the experiment's weights and the weights in its metrics

  @severity:normal @story:transparency @dashboard
  Scenario: The dashboard shows the bandit's allocation and its cumulative regret
    When 300 held-out market days are sent to the bandit, each answer's business value fed back
    Then within 20 seconds the dashboard's bandit view shows each predictor's weight and P(best) as the controller set them, and the rewards and cumulative regret of the feedback

  @severity:critical @story:resilience
  Scenario: A predictor that stops answering loses its traffic at once, and then clients see no errors
    While a candidate is away Seldon serves no split (the experiment is inactive) until the
    experiment no longer lists it: the bandit probes every predictor's readiness every 2 seconds
    and takes a silent one out. The requests that fail before that are counted in the report.

    When 100 held-out market days are sent to the bandit, each answer's business value fed back, then "ensemble-predictor" stops answering while days keep coming at 50 a second for 6 seconds
    Then within 5 seconds the experiment splits the traffic again between the predictors that answer, none to it
    And from then on every request is answered

  @severity:normal @story:resilience
  Scenario: A restarted bandit resumes learning where it stopped
    When 300 held-out market days are sent to the bandit, each answer's business value fed back, and the bandit controller restarts
    Then the bandit resumes from the posteriors and the update count it had stored
