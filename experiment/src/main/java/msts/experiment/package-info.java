/**
 * The experiment (docs/experiment.md): a {@link msts.experiment.Plan} of SAE configurations × seeds × evals run
 * into a resumable directory by {@link msts.experiment.Experiment} — harvest once per context, calibrate each
 * configuration's L1 / k to a target L0 ({@link msts.experiment.Calibrate}) and tune configurations with a tuning
 * grid on seeds the evaluation does not use, train every configuration and seed (msts.sae), the core, unlearning
 * and sparse-probing evals on the model and the ground-truth benchmark
 * in a clean and a low-SNR regime (msts.evals), RMU fine-tuning as the reference unlearning method
 * (msts.model.train.Rmu) evaluated with the unlearning eval's MCQ code — then {@link msts.experiment.Stats}
 * (means and t intervals over seeds, paired differences with paired-t and exact sign-flip tests, verdicts) and
 * {@link msts.experiment.ExperimentReport}. This module owns the plan format, the cell layout, the statistics and
 * the experiment report; it computes nothing that the other modules already compute.
 */
package msts.experiment;
