import ChurnPluginKit
import ChurnSequenceModels

await PluginRuntime.serve(SequencePlugin(attention: false))
