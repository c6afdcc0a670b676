@functional @explainer @issue=11
Feature: Every prediction can be explained, and the explanation adds up to the prediction
  In order to answer a regulator who asks why a call was made
  As the head of model risk
  I want SHAP explanations of the served predictors that add up to what the predictor served,
  agree with the exact Shapley values where these can be enumerated, and name the same leading
  features each time a day is explained

  The explainers are Models with spec.explainer (kernel_shap, k8s/explainer), served as MLServer's
  alibi-explain runtime serves them: one BYTES output "explanation" holding alibi's Explanation.
  Each explains its predictor's probability of an up day over a background of 32 training days.
  Explanations are asked through the explanation gateway, which writes the audit trail.

  Background:
    Given the A/B testing stack is deployed
    And the explainer "enhanced-explainer" of "enhanced-predictor" is deployed and ready

  @severity:critical @story:shap-additivity
  Scenario: The SHAP values of each explanation add up to the probability the predictor serves
    When 20 held-out days are explained by "enhanced-explainer", one request each
    Then for every day the expected value plus the SHAP values is the probability "enhanced-predictor" serves, within 0.000001

  @severity:critical @story:shap-accuracy
  Scenario: KernelSHAP gives the exact Shapley values of a predictor whose features can be enumerated
    Given the explainer "baseline-explainer" of "baseline-predictor" is deployed and ready
    When 5 held-out days are explained by "baseline-explainer", one request each
    Then every SHAP value is within 0.001 of the exact Shapley value, enumerated over the features "baseline-predictor" uses

  @severity:normal @story:shap-stability
  Scenario: Repeated explanations of a day name the same leading features
    When 5 held-out days are each explained 3 times by "enhanced-explainer"
    Then the top 3 features of each day are the same in every explanation

  @severity:normal @story:shap-latency
  Scenario: An explanation comes back while the analyst waits
    When 20 held-out days are explained by "enhanced-explainer", one request each
    Then the 95th percentile of the time one explanation takes is under 1000 ms

  @severity:critical @story:audit-trail
  Scenario: Every explanation is on the audit trail
    When 8 held-out days are explained by "enhanced-explainer", one request each
    Then each explanation has one audit row with its request id, the hash of the day sent, its top 5 features and who asked

  @severity:critical @story:audit-trail
  Scenario: The compliance report for a period lists every explanation given in it
    When 8 held-out days are explained by "enhanced-explainer", one request each
    Then the audit report for the period lists every one of them, in Markdown and CSV

  @severity:normal @story:explanation-view
  Scenario: The dashboard shows the explanations on the audit trail and the features that lead them
    When 5 held-out days are explained by "enhanced-explainer", one request each
    Then within 20 seconds the dashboard's explanation view shows the explained instances and the leading features as the audit trail holds them

  @severity:normal @story:counterfactuals
  Scenario: Each counterfactual is the smallest plausible change that flips the call
    Then the counterfactuals of 20 held-out days from "enhanced-counterfactual" each flip the call, change at most 3 mutable features within their plausible ranges, and change no feature further than needed
