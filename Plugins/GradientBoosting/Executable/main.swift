import ChurnGradientBoosting
import ChurnPluginKit

await PluginRuntime.serve(GradientBoostingPlugin())
