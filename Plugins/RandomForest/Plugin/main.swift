import ChurnForest
import ChurnPluginKit

await PluginRuntime.serve(RandomForestPlugin())
